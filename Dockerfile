# syntax=docker/dockerfile:1
# Portcullis gateway image. Three stages:
#   build   — all dependencies, compiles src/ to dist/src (tests and benchmarks are not part of the image)
#   deps    — production dependencies only (npm ci --omit=dev)
#   runtime — dist/src, the production node_modules, package.json (ES module type) and the example config,
#             run as the unprivileged user 1000 (numeric, so Kubernetes' runAsNonRoot can verify it)
# The build context is filtered by .dockerignore (only package*.json, tsconfig.json, src/ and the example).
# Size: see README "Deploying" (estimated; the machines this was written on cannot run `docker build`).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsconfig.json also includes test/ and bench/; they are not in the context, so only dist/src is emitted.
RUN npx tsc -p tsconfig.json

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORTCULLIS_CONFIG=/etc/portcullis/gateway.yaml \
    PORTCULLIS_HEALTHCHECK_URL=http://127.0.0.1:9090/healthz
WORKDIR /app
# Files stay owned by root: the gateway user can read them, not change them.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json gateway.example.yaml ./
USER 1000:1000
# 8080: the gateway (server.listen); 9090: /metrics, /healthz, /readyz (admin.listen; keep it off the public network).
EXPOSE 8080 9090
# The admin listener's /healthz. With admin.listen elsewhere, set PORTCULLIS_HEALTHCHECK_URL to match.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.PORTCULLIS_HEALTHCHECK_URL,{signal:AbortSignal.timeout(2500)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "dist/src/cli/bin.js"]
CMD ["serve"]
