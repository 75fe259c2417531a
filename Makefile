# Developer entry points. The scripts install what is missing (as root).
.PHONY: build test unit lab-test bench demo lint clean

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

clean:
	rm -rf bin .lab/runs .lab/initramfs
