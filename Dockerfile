# syntax=docker/dockerfile:1
# Multi-stage: compile TypeScript with the dev toolchain, ship only production dependencies.
# Node 22 LTS, pinned to one release so a rebuild gives the same runtime (Node 20 reached end of
# life in April 2026; fastify's light-my-request (cookie 2) and @fastify/static's
# content-disposition 3 declare Node >= 22). Bump deliberately, e.g. to a newer 22.x or 24.x.
ARG NODE_IMAGE=node:22.20.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts are needed to compile (they only prepare test-time tools).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY scripts ./scripts
COPY web ./web
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# Sinks are configured from the environment at run time (DATABASE_URL, KAFKA_BROKERS, GCS_BUCKET,
# STREAM_ENDPOINT/STREAM_SECRET, OPENSEARCH_URL, API_KEY, ...; see .env.example), never baked in:
# `docker run --env-file .env ...`. Google credentials: mount a key and set
# GOOGLE_APPLICATION_CREDENTIALS, or use the platform's workload identity.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# The `ecomgen` command (generate, load, events, stream, serve): runs dist/cli/main.js in the
# image. /app belongs to root and the process runs as `node` (uid 1000): files go to a mounted
# directory it may write, e.g. `docker run --rm -v "$PWD/out:/out" ecomgen node bin/ecomgen.js
# generate users --seed 42 --out /out`.
COPY bin ./bin
USER node
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# A larger young generation than the default 16 MB semi-space: see docs/events.md ("Memory").
CMD ["node", "--max-semi-space-size=32", "dist/server.js"]
