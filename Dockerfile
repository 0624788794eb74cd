# agent2agent (AMTP) server. Multi-stage: build with the toolchain, run on a slim image as a non-root user.
# Node 22 (LTS, supported until 2027-04-30; scripts/test-lts.mjs runs the suite's LTS subset on it).
# Not yet Node 24: on 24.19+ better-sqlite3 12's statement objects can abort the process when they are
# garbage-collected (SIGABRT, "RemoveEnvironmentCleanupHook … (env) != nullptr"; seen here on 24.21).
# better-sqlite3 13 avoids it but crashes on Node 20, which the project still supports: the image moves
# to Node 24 together with better-sqlite3 13.
# It listens on 0.0.0.0 in the container: set AMTP_PUBLIC_URL (compose.yaml does), or it refuses to start.

FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles its native addon here.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    AMTP_HOST=0.0.0.0 \
    AMTP_PORT=8787 \
    AMTP_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json /app/LICENSE ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.AMTP_PORT||8787)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/cli/main.js", "serve"]
