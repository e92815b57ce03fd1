# syntax=docker/dockerfile:1
# dlp-proxy: build the TypeScript in one stage, run the compiled output as a non-root user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    DLP_PROXY_CONFIG=/app/config/default.yaml
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system dlp && useradd --system --gid dlp --home-dir /app --shell /usr/sbin/nologin dlp
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
RUN mkdir -p /app/ca && chown -R dlp:dlp /app/ca && chmod 0700 /app/ca
USER dlp
# ca/ holds the CA key (keep it across upgrades, share it between instances); config/ the YAML.
VOLUME ["/app/ca", "/app/config"]
# Listeners bind 127.0.0.1 by default: a container config sets proxy.host/admin.host to 0.0.0.0
# together with proxy.allowedClients (the config check refuses an open proxy).
EXPOSE 8080 9090
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "require('http').get('http://127.0.0.1:9090/healthz',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/src/main.js"]
CMD ["start"]
