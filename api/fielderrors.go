package api

import (
	"errors"
	"fmt"
)

// fieldErrors collects problems, each with the path of the field at fault,
// so that a user reads "spec.virtualHost.routes[2].matchers[0].regex: ..."
// rather than a bare "invalid regex".
type fieldErrors struct{ errs []error }

func (f *fieldErrors) add(path, format string, args ...any) {
	f.errs = append(f.errs, Errorf(InvalidField, path, format, args...))
}

func (f *fieldErrors) err() error { return errors.Join(f.errs...) }

func idx(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
