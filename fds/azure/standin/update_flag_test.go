package standin

// The golden package registers -update, so that `go test ./... -update` runs in every package.
import _ "github.com/gluon-gateway/gluon/xds/ir/golden"
