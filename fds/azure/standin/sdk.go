package standin

import (
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
)

// Cloud is the cloud configuration that points azidentity and ARM clients
// at the stand-in.
func (s *Server) Cloud() cloud.Configuration {
	return cloud.Configuration{
		ActiveDirectoryAuthorityHost: s.tls.URL + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: s.tls.URL, Audience: ARMAudience},
		},
	}
}

// ClientOptions are azcore options for SDK clients of the stand-in: its
// cloud and a transport that trusts its certificate. Credentials also need
// DisableInstanceDiscovery, since the authority is not a known AAD host.
func (s *Server) ClientOptions() azcore.ClientOptions {
	return azcore.ClientOptions{Cloud: s.Cloud(), Transport: s.tls.Client()}
}
