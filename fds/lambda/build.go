package lambda

import (
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/gluon-gateway/gluon/functions"
)

const latest = "$LATEST"

// functionNames are the distinct (non-empty) function names in a listing,
// sorted.
func functionNames(versions []types.FunctionConfiguration) []string {
	var names []string
	for _, v := range versions {
		if name := aws.ToString(v.FunctionName); name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// build turns the listings into Functions named as Gloo names them: "name"
// for $LATEST, "name:qualifier" for a version or alias. An alias takes
// the runtime of the version it points at. Duplicates (a listing that
// repeats itself) are dropped; the result is sorted by name.
func build(versions []types.FunctionConfiguration, aliases map[string][]types.AliasConfiguration) []functions.Function {
	runtimes := map[string]string{} // "name:version" → runtime
	byName := map[string]functions.Function{}
	for _, v := range versions {
		name, version := aws.ToString(v.FunctionName), aws.ToString(v.Version)
		if name == "" || version == "" {
			continue
		}
		runtimes[name+":"+version] = string(v.Runtime)
		qualifier := version
		if version == latest {
			qualifier = ""
		}
		add(byName, name, qualifier, unqualifiedLatest(aws.ToString(v.FunctionArn)), string(v.Runtime))
	}
	for name, list := range aliases {
		for _, a := range list {
			if alias := aws.ToString(a.Name); alias != "" {
				add(byName, name, alias, aws.ToString(a.AliasArn), runtimes[name+":"+aws.ToString(a.FunctionVersion)])
			}
		}
	}
	out := make([]functions.Function, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b functions.Function) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func add(byName map[string]functions.Function, name, qualifier, arn, runtime string) {
	logical := name
	if qualifier != "" {
		logical += ":" + qualifier
	}
	byName[logical] = functions.Function{Name: logical, Kind: functions.KindLambda, Lambda: &functions.LambdaFunction{
		FunctionName: name, Qualifier: qualifier, ARN: arn, Runtime: runtime}}
}

// unqualifiedLatest drops a ":$LATEST" suffix: invoking the unqualified
// ARN runs $LATEST, and that is the ARN the "name" function stands for.
func unqualifiedLatest(arn string) string {
	return strings.TrimSuffix(arn, ":"+latest)
}
