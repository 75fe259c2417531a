module github.com/lsrd/lsrd

go 1.26.0
