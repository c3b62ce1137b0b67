package translator

// validateAlone runs Envoy's generated validation on m without the children
// in *children, which are validated on their own: a child that fails is
// left out, not its parent.
func validateAlone[T any](m interface{ ValidateAll() error }, children *[]T) error {
	kept := *children
	*children = nil
	defer func() { *children = kept }()
	return m.ValidateAll()
}
