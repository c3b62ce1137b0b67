package consul

// DevAgentArgs are the arguments of a Consul agent in -dev mode that
// listens on loopback only: its HTTP API on httpPort, its Serf and server
// RPC ports on the others, DNS and gRPC off. The demo, the e2e tests and
// the benchmark run one so.
func DevAgentArgs(httpPort, serfLANPort, serfWANPort, serverPort string) []string {
	return []string{"agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-http-port", httpPort, "-dns-port", "-1", "-grpc-port", "-1", "-grpc-tls-port", "-1",
		"-serf-lan-port", serfLANPort, "-serf-wan-port", serfWANPort, "-server-port", serverPort}
}
