# smpsim as a container image: the npm package installed globally, `smpsim`
# the entry point. Build it from the repository root:
#
#   docker build -t smpsim:0.1.0 .
#   docker run --rm smpsim:0.1.0 run arm-delayed-free --mode pct --shard 1/4
#
# docs/scale-out.md runs it as a Kubernetes Indexed Job
# (deploy/k8s/indexed-job.yaml).

# Build: compile, then pack exactly what `npm publish` would ship.
FROM node:20-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No scripts: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm pack --ignore-scripts --pack-destination /pkg

# Run: the packed package and its runtime dependencies only.
FROM node:20-slim
COPY --from=build /pkg /pkg
RUN npm install --global --omit=dev /pkg/smpsim-*.tgz \
  && rm -rf /pkg \
  && npm cache clean --force
# The image's unprivileged user (uid 1000); a report volume must let it write.
USER node
WORKDIR /home/node
ENTRYPOINT ["smpsim"]
CMD ["--help"]
