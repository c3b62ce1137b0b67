package translator

import (
	"errors"
	"fmt"
)

type validatable interface {
	ValidateAll() error
	GetName() string
}

// validateAll runs Envoy's generated validation over every resource, so
// that what Envoy would reject at run time is caught at config time.
func validateAll(r *Resources) error {
	var errs []error
	check := func(kind string, v validatable) {
		if err := v.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", kind, v.GetName(), err))
		}
	}
	for _, l := range r.Listeners {
		check("listener", l)
	}
	for _, rc := range r.Routes {
		check("route configuration", rc)
	}
	for _, c := range r.Clusters {
		check("cluster", c)
	}
	for _, e := range r.Endpoints {
		if err := e.ValidateAll(); err != nil {
			errs = append(errs, fmt.Errorf("endpoints %q: %w", e.GetClusterName(), err))
		}
	}
	return errors.Join(errs...)
}
