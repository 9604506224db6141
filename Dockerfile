# dynakv node image: `docker compose up` runs three of them and a benchmark.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY lib ./lib
COPY bench ./bench
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The server's process settings, as bin/dynakv sets them (lib/cli/launch.ts says why).
ENV MALLOC_TRIM_THRESHOLD_=131072 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_ARENA_MAX=2 UV_THREADPOOL_SIZE=8 NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=1536"
VOLUME /data
EXPOSE 6379 16379 9379
ENTRYPOINT ["node", "/app/dist/lib/cli/main.js"]
CMD ["server", "--host", "0.0.0.0", "--dir", "/data"]
