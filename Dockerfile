# syntax=docker/dockerfile:1
# A small image with the followup binary only, run as a non-root user.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY proto proto
COPY migrations migrations
COPY src src
RUN cargo build --release --locked --bin followup && strip target/release/followup

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin followup
COPY --from=build /src/target/release/followup /usr/local/bin/followup
USER 10001
ENV FOLLOWUP_LISTEN=0.0.0.0:50051 \
    FOLLOWUP_LOG_FORMAT=json
# gRPC and gRPC-Web; Prometheus metrics when FOLLOWUP_METRICS_LISTEN is set.
EXPOSE 50051 9464
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s CMD ["/usr/local/bin/followup", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/followup"]
