# One image for the sandbox, the workers, the inbox and the codec server (docker-compose.yml).
# Node.js 24, the active LTS line. The workflow bundles are built here once, so workers start
# without bundling (WORKFLOW_BUNDLE_PATH; a worker with payload keys loads the .encoded-failures.js one).
# .dockerignore keeps keys, certificates, .env files and the real config/*.json out of the image.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# The Chinese font the audit report's PDF embeds (report/pdf.ts; REPORT_FONT_PATH overrides it).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-zenhei && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
RUN node --import tsx scripts/bundle.ts .build/workflow-bundle.js
# The sandbox's and the inbox's volumes: a new named volume takes its directory's owner.
RUN mkdir -p /data /var/lib/vat-inbox && chown node:node /data /var/lib/vat-inbox
USER node
CMD ["node", "--import", "tsx", "workers/main.ts"]
