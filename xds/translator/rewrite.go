package translator

import (
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/gluon-gateway/gluon/xds/ir"
)

// applyRewrites sets the path and host rewrites of a forwarded request.
func applyRewrites(a *routev3.RouteAction, f *ir.Forward) {
	if f.PrefixRewrite != nil {
		a.PrefixRewrite = *f.PrefixRewrite
	}
	if f.RegexRewrite != nil {
		a.RegexRewrite = &matcherv3.RegexMatchAndSubstitute{Pattern: regex(f.RegexRewrite.Pattern), Substitution: f.RegexRewrite.Substitution}
	}
	switch {
	case f.HostRewrite != "":
		a.HostRewriteSpecifier = &routev3.RouteAction_HostRewriteLiteral{HostRewriteLiteral: f.HostRewrite}
	case f.AutoHostRewrite:
		a.HostRewriteSpecifier = &routev3.RouteAction_AutoHostRewrite{AutoHostRewrite: wrapperspb.Bool(true)}
	}
}
