# Developer entry points. The scripts install what is missing (as root).
.PHONY: build test unit lab-test bench demo lint package clean

build:
	go build -o bin/ ./cmd/... ./lab/cmd/lab

test:
	bash scripts/test

unit:
	bash scripts/test unit

lab-test:
	bash scripts/test labhost lab

lint:
	bash scripts/test lint

bench:
	bash scripts/bench

demo:
	bash scripts/demo

package:
	bash scripts/package

clean:
	rm -rf bin dist .lab/runs .lab/initramfs
