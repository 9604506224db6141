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
VOLUME /data
EXPOSE 6379 16379 9379
ENTRYPOINT ["node", "/app/dist/lib/cli/main.js"]
CMD ["server", "--host", "0.0.0.0", "--dir", "/data"]
