// Package transform is Gluon's request/response transformation engine:
// Gloo's transformation templates, with pongo2 (Django-style) templates in
// place of inja. Specs (package spec) are compiled once, at config time, so
// that a template that does not compile rejects its route with the line and
// column; compiled transformations are then applied per request, sandboxed
// and bounded.
package transform

import "github.com/gluon-gateway/gluon/transform/spec"

// The spec types, under the names the engine's users know them by.
type (
	Spec        = spec.Spec
	Template    = spec.Template
	HeaderValue = spec.HeaderValue
	Extractor   = spec.Extractor
	ParseBody   = spec.ParseBody
	ExtractMode = spec.ExtractMode
)

// The spec constants.
const (
	ParseAsJSON   = spec.ParseAsJSON
	DontParse     = spec.DontParse
	Extract       = spec.Extract
	SingleReplace = spec.SingleReplace
	ReplaceAll    = spec.ReplaceAll
)
