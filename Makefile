# dynakv: the two commands of the README are `npm ci && npm start` and `npm test`;
# these targets wrap them and the benchmarks.
.PHONY: build test lint start bench bench/micro bench/single-node bench/cluster bench/latency bench/memory bench/callgrind bench/profile bench/antientropy bench/handoff bench/types bench/metrics-overhead clean

build:
	npm run build

test:
	npm test

lint:
	npm run lint

start: build
	npm start

# Issue 11's figures: single-node, cluster, latency, memory; callgrind and profile say where
# the time goes. Their settings (DYNAKV_BENCH_*, DYNAKV_CG_* variables) are listed at the top of each bench/*.ts.
bench: bench/micro bench/single-node bench/cluster bench/latency bench/memory bench/antientropy bench/handoff bench/types

bench/micro: build
	node dist/bench/micro/index.js

bench/single-node: build
	node dist/bench/single-node.js

bench/cluster: build
	node dist/bench/cluster.js

bench/latency: build
	node dist/bench/latency.js

bench/memory: build
	node dist/bench/memory.js

bench/callgrind: build
	node dist/bench/callgrind.js

bench/profile: build
	node dist/bench/profile.js

bench/antientropy: build
	node dist/bench/antientropy.js

bench/handoff: build
	node dist/bench/handoff.js

bench/types: build
	node dist/bench/types.js

bench/metrics-overhead: build
	node dist/bench/metrics-overhead.js

clean:
	rm -rf dist .tap
