# The image deploy/deployment.yaml runs: gluon and gluonctl, static, non-root.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/ ./cmd/gluon ./cmd/gluonctl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gluon /out/gluonctl /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/gluon"]
