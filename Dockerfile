# One image for the sandbox, the workers, the inbox and the codec server (docker-compose.yml).
# The workflow bundle is built here once, so workers start without bundling (WORKFLOW_BUNDLE_PATH).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
RUN node --import tsx scripts/bundle.ts .build/workflow-bundle.js
USER node
CMD ["node", "--import", "tsx", "workers/main.ts"]
