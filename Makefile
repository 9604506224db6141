# dynakv: the two commands of the README are `npm ci && npm start` and `npm test`;
# these targets wrap them and the benchmarks.
.PHONY: build test lint start bench bench/micro bench/single-node bench/cluster bench/antientropy bench/handoff bench/metrics-overhead clean

build:
	npm run build

test:
	npm test

lint:
	npm run lint

start: build
	npm start

bench: bench/micro bench/single-node bench/cluster bench/antientropy bench/handoff

bench/micro: build
	node dist/bench/micro/index.js

bench/single-node: build
	node dist/bench/single-node.js

bench/cluster: build
	node dist/bench/cluster.js

bench/antientropy: build
	node dist/bench/antientropy.js

bench/handoff: build
	node dist/bench/handoff.js

bench/metrics-overhead: build
	node dist/bench/metrics-overhead.js

clean:
	rm -rf dist .tap
