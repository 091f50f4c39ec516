# kmap-review GitHub App: build with the dev dependencies, run with production ones only.
# CI runs the same commands: `npm ci && npm run build`, then `npm ci --omit=dev` and `npm start`.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# scripts/: the CLI bundle step of the build; examples/: the review it runs to make the CLI's code cache.
COPY scripts ./scripts
COPY examples ./examples
RUN npm run build

FROM node:20-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev && npm cache clean --force

FROM node:20-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json app.yml ./
# The official image ships the unprivileged user "node" (uid 1000).
USER node
EXPOSE 3000
# Probot answers GET /ping with "PONG"; node:20-slim has no curl, so use Node's fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/ping').then(r=>r.text()).then(t=>process.exit(t.trim()==='PONG'?0:1),()=>process.exit(1))"]
CMD ["npm", "start"]
