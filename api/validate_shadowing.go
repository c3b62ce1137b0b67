package api

// validateShadowing checks a route's mirror on its own: the upstream must be
// named (whether it exists is stage 1's concern, as for destinations) and the
// percentage must be one Envoy's FractionalPercent over HUNDRED can express.
func validateShadowing(f *fieldErrors, path string, s *Shadowing) {
	if s == nil {
		return
	}
	if s.Upstream.Name == "" {
		f.add(path+".upstream.name", "is required")
	}
	if s.Percentage != nil && *s.Percentage > 100 {
		f.add(path+".percentage", "must be between 0 and 100, got %d", *s.Percentage)
	}
}
