# harness-meter pipeline image. Build context: the repository root.
FROM node:22-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY instrumentation ./instrumentation
COPY queries ./queries
COPY pipeline ./pipeline
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --workspaces --include-workspace-root
ENV HM_DATA_DIR=/data
# A larger young generation: the receiver allocates a few KB per span (see README, Benchmarks).
ENV NODE_OPTIONS=--max-semi-space-size=64
VOLUME ["/data"]
EXPOSE 4318
ENTRYPOINT ["node", "pipeline/dist/cli.js"]
CMD ["start"]
