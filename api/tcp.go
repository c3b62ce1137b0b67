package api

// TCPGateway is Gloo's: the gateway forwards TCP connections, each to the
// first tcpHost whose sniDomains name the server name a TLS client sends
// (TLS passthrough: the upstream terminates it), or to the host without
// sniDomains (plain TCP, or any other name).
type TCPGateway struct {
	TCPHosts []TCPHost `json:"tcpHosts"`
}

// TCPHost is one forwarding rule.
type TCPHost struct {
	Name        string      `json:"name"`
	Destination RouteAction `json:"destination"`
	// SSLConfig selects the host by SNI (sniDomains); the TLS is passed
	// through as it is.
	SSLConfig *TCPSSLConfig `json:"sslConfig,omitempty"`
}

// TCPSSLConfig chooses a TCP host by the TLS server name.
type TCPSSLConfig struct {
	SniDomains []string `json:"sniDomains"`
}

func validateTCPGateway(f *fieldErrors, path string, g *TCPGateway) {
	if len(g.TCPHosts) == 0 {
		f.add(path+".tcpHosts", "at least one tcp host is required")
	}
	names, defaults := map[string]bool{}, 0
	for i, h := range g.TCPHosts {
		p := idx(path+".tcpHosts", i)
		if h.Name == "" || names[h.Name] {
			f.add(p+".name", "%q is empty or repeated", h.Name)
		}
		names[h.Name] = true
		validateTCPDestination(f, p+".destination", &h.Destination)
		if h.SSLConfig == nil || len(h.SSLConfig.SniDomains) == 0 {
			defaults++
			continue
		}
		validateServerNames(f, p+".sslConfig.sniDomains", h.SSLConfig.SniDomains)
	}
	if defaults > 1 {
		f.add(path+".tcpHosts", "only one tcp host may go without sniDomains")
	}
}

func validateTCPDestination(f *fieldErrors, path string, a *RouteAction) {
	if countSet(a.Single != nil, a.Multi != nil) != 1 {
		f.add(path, "exactly one of single, multi must be set")
		return
	}
	dests := []WeightedDestination{}
	if a.Single != nil {
		dests = append(dests, WeightedDestination{Destination: *a.Single, Weight: 1})
	} else {
		dests = a.Multi.Destinations
	}
	if len(dests) == 0 {
		f.add(path+".multi.destinations", "at least one destination is required")
	}
	for i, d := range dests {
		if d.Destination.Upstream == nil || d.Destination.Upstream.Name == "" {
			f.add(idx(path+".multi.destinations", i)+".destination.upstream", "is required")
		}
		if d.Destination.DestinationSpec != nil {
			f.add(idx(path+".multi.destinations", i)+".destination.destinationSpec", "functions are for HTTP routes")
		}
	}
}
