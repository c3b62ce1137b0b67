package kubesource_test

import (
	"os"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/gluon-gateway/gluon/api/kubesource/kubetest"
)

var cfg *rest.Config

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m, &cfg)) }

func clients(t *testing.T) (client.Client, cache.Cache) { return kubetest.Clients(t, cfg) }

func eventually(t *testing.T, what string, cond func() error) { kubetest.Eventually(t, what, cond) }
