# mlcycle image: one image for both processes. The default command runs the API;
# the worker service in docker-compose.yml overrides it to run workers/main.ts.
# TypeScript runs through tsx (a runtime dependency), so there is no build step.
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Dependencies first, so source edits do not reinstall them. onnxruntime-node ships its
# CPU binaries in the package; skip its optional download step (.npmrc says the same).
COPY package.json package-lock.json .npmrc ./
RUN ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force

# Sources the processes load at run time (workers bundle workflows/ from source;
# lib/storage/migrations/*.sql is read by the migrator).
COPY tsconfig.json ./
COPY lib ./lib
COPY activities ./activities
COPY workflows ./workflows
COPY workers ./workers
COPY api ./api
COPY cli ./cli

# Local state lives under /data (artifacts volume mounts at /data/artifacts). The directory
# is created here, owned by the runtime user, so a fresh named volume inherits that owner.
RUN mkdir -p /data/artifacts && chown -R node:node /data
ENV MLCYCLE_DATA_DIR=/data \
    API_HOST=0.0.0.0 \
    API_PORT=3000

# Run as the unprivileged user from the base image (uid 1000); sources stay root-owned, read-only.
USER node
EXPOSE 3000

# node runs the process directly (no npm wrapper), so SIGTERM reaches the app's shutdown handlers.
# Same entry file as `npm run api`.
CMD ["node", "--import", "tsx", "api/server.ts"]
