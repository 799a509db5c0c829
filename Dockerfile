# syntax=docker/dockerfile:1
# Herald: build with the full toolchain, run on Debian with its Chromium (the same browser the tests use).
# NODE_VERSION is the one Node release Herald supports (Node 24 LTS): `npm test` reads it from this line and runs
# `npm ci`, the build and every test on that same release (scripts/node.cjs). test/deploy/image.e2e-spec.ts replays
# this file without Docker: keep every stage's commands in RUN/COPY/ENV lines it can follow.
ARG NODE_VERSION=24.22.3

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# The templates are built ahead into static/ (committed); what only builds them (echarts, highlight.js, fonts) is a
# dev dependency and is pruned here with the compiler.
RUN npx nest build && npm prune --omit=dev

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# Chromium brings its own libraries; Noto fonts cover text and colour emoji in rendered images; tini is PID 1.
# DL3008 (pin apt versions) is ignored on purpose: bookworm's security archive replaces chromium's version in place
# (and drops the old one), so a pinned version stops building within weeks; the base image tag pins the release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# HOME is /tmp: with a read-only root filesystem Chromium's profile, crash reports and font cache go to the one
# writable place (an emptyDir in Kubernetes, a tmpfs in compose). --max-semi-space-size=8: Node 24's V8 sizes the
# young generation for throughput; capped at 16 MiB the bot's peak RSS under a burst fell from 345 to 269 MiB, and at
# 8 MiB to 266-274 MiB against 273-301 at 16 in three runs each, interleaved on 2026-11-29, at the same drain rate
# (npm run bench; docs/performance.md, "End to end"). The old generation is sized from the container's memory limit
# (set one: the manifests and compose do). Override NODE_OPTIONS to trade memory back for speed.
ENV NODE_ENV=production \
    PORT=3000 \
    HOME=/tmp \
    NODE_OPTIONS=--max-semi-space-size=8 \
    BROWSER_EXECUTABLE_PATH=/usr/bin/chromium
# The files stay root's and read-only to Herald, which runs as a numeric user with no entry in /etc/passwd
# (runAsNonRoot needs a numeric USER). Nothing reads templates/ at run time, so it is not copied.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY static ./static
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tini reaps Chromium's helpers and passes SIGTERM on, so Herald can shut down cleanly.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
