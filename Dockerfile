# syntax=docker/dockerfile:1
# Herald: build with the full toolchain, run on Debian with its Chromium (the same browser the tests use).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npx nest build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
# Chromium brings its own libraries; Noto fonts cover text and colour emoji in rendered images.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system herald && useradd --system --gid herald --home /app --shell /usr/sbin/nologin herald
WORKDIR /app
ENV NODE_ENV=production \
    PORT=3000 \
    BROWSER_EXECUTABLE_PATH=/usr/bin/chromium
COPY --from=build --chown=herald:herald /app/node_modules ./node_modules
COPY --from=build --chown=herald:herald /app/dist ./dist
COPY --chown=herald:herald package.json ./
COPY --chown=herald:herald templates ./templates
COPY --chown=herald:herald static ./static
USER herald
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# tini reaps Chromium's helpers and passes SIGTERM on, so Herald can shut down cleanly.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
