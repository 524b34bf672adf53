# syntax=docker/dockerfile:1.7
#
# One file, one target per component:
#   docker build --target api|relay|consumer|operator -t ghcr.io/shopstream/<target> .
# Production targets hold the compiled dist/ of the workspaces the component imports and only the
# production dependencies of that workspace, and run as the non-root user 10001 with nothing to
# write on the root filesystem. The <component>-dev targets are what Tilt builds for live update:
# the same layout plus the compiler, with the workspaces' sources and dist/ owned by 10001 and
# `node --watch`, so a synced src/ file is compiled in the container and the process restarts.
#
# Install scripts are never run (`--ignore-scripts`): the only ones in the lockfile are build-time
# checks, native watch-mode builds and telemetry (see README, "Module format"), none needed here.

ARG NODE_IMAGE=node:26-trixie-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false

# Every workspace manifest: `npm ci` checks the whole lockfile against them, even for one workspace.
FROM base AS manifests
COPY package.json package-lock.json .npmrc ./
COPY services/shared/package.json services/shared/
COPY services/api/package.json services/api/
COPY services/relay/package.json services/relay/
COPY services/consumer/package.json services/consumer/
COPY operator/package.json operator/
COPY tests/package.json tests/

FROM manifests AS deps
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci --ignore-scripts

# One build stage per component, each with only the sources it compiles, so a change to one
# service's code leaves the other images' layers cached (and Tilt can ignore the other sources).
FROM deps AS build-shared
COPY tsconfig.base.json ./
COPY services/shared/tsconfig.json services/shared/
COPY services/shared/src services/shared/src

FROM build-shared AS build-api
COPY services/api/tsconfig.json services/api/
COPY services/api/src services/api/src
RUN ./node_modules/.bin/tsc -b services/api

FROM build-shared AS build-relay
COPY services/relay/tsconfig.json services/relay/
COPY services/relay/src services/relay/src
RUN ./node_modules/.bin/tsc -b services/relay

FROM build-shared AS build-consumer
COPY services/consumer/tsconfig.json services/consumer/
COPY services/consumer/src services/consumer/src
RUN ./node_modules/.bin/tsc -b services/consumer

FROM build-shared AS build-operator
COPY operator/tsconfig.json operator/
COPY operator/src operator/src
RUN ./node_modules/.bin/tsc -b operator

# Production dependencies of one workspace (and of @shopstream/shared, which it depends on),
# hoisted into /app/node_modules with node_modules/@shopstream/* linking to the workspace folders.
FROM manifests AS prod-deps-api
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci --omit=dev --ignore-scripts --workspace @shopstream/api

FROM manifests AS prod-deps-relay
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci --omit=dev --ignore-scripts --workspace @shopstream/relay

FROM manifests AS prod-deps-consumer
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci --omit=dev --ignore-scripts --workspace @shopstream/consumer

FROM manifests AS prod-deps-operator
RUN --mount=type=cache,target=/root/.npm,sharing=locked npm ci --omit=dev --ignore-scripts --workspace @shopstream/operator

# npm, npx, corepack and yarn are build tools; the production images run `node` only.
FROM ${NODE_IMAGE} AS runtime
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-* \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
ENV NODE_ENV=production

FROM runtime AS api
COPY --from=prod-deps-api /app/ ./
COPY --from=build-api /app/services/shared/dist services/shared/dist
COPY --from=build-api /app/services/api/dist services/api/dist
USER 10001:10001
EXPOSE 8080
# The migration hook Job runs `node services/shared/dist/db/migrate-cli.js` from this image.
CMD ["node", "services/api/dist/main.js"]

FROM runtime AS relay
COPY --from=prod-deps-relay /app/ ./
COPY --from=build-relay /app/services/shared/dist services/shared/dist
COPY --from=build-relay /app/services/relay/dist services/relay/dist
USER 10001:10001
EXPOSE 9464
CMD ["node", "services/relay/dist/main.js"]

FROM runtime AS consumer
COPY --from=prod-deps-consumer /app/ ./
COPY --from=build-consumer /app/services/shared/dist services/shared/dist
COPY --from=build-consumer /app/services/consumer/dist services/consumer/dist
USER 10001:10001
EXPOSE 9465
CMD ["node", "services/consumer/dist/main.js"]

FROM runtime AS operator
COPY --from=prod-deps-operator /app/ ./
COPY --from=build-operator /app/services/shared/dist services/shared/dist
COPY --from=build-operator /app/operator/dist operator/dist
USER 10001:10001
EXPOSE 9466
CMD ["node", "operator/dist/main.js"]

# Development targets (Tilt). tsc must be able to rewrite dist/ and its .tsbuildinfo as user 10001.
FROM build-api AS api-dev
RUN chown -R 10001:10001 services
USER 10001:10001
EXPOSE 8080
CMD ["node", "--watch", "services/api/dist/main.js"]

FROM build-relay AS relay-dev
RUN chown -R 10001:10001 services
USER 10001:10001
EXPOSE 9464
CMD ["node", "--watch", "services/relay/dist/main.js"]

FROM build-consumer AS consumer-dev
RUN chown -R 10001:10001 services
USER 10001:10001
EXPOSE 9465
CMD ["node", "--watch", "services/consumer/dist/main.js"]

FROM build-operator AS operator-dev
RUN chown -R 10001:10001 services operator
USER 10001:10001
EXPOSE 9466
CMD ["node", "--watch", "operator/dist/main.js"]
