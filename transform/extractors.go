package transform

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
)

type extractor struct {
	name     string
	header   string
	body     bool
	re       *regexp.Regexp
	group    int
	mode     ExtractMode
	replace  string
	jsonType string
	noMerge  bool
}

func compileExtractors(field string, in map[string]Extractor) ([]extractor, error) {
	names := make([]string, 0, len(in))
	for n := range in {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]extractor, 0, len(in))
	for _, n := range names {
		x := in[n]
		f := fmt.Sprintf("%s.extractors[%q]", field, n)
		re, err := regexp.Compile(x.Regex)
		if err != nil {
			return nil, &CompileError{Field: f + ".regex", Reason: err.Error()}
		}
		if x.Subgroup < 0 || x.Subgroup > re.NumSubexp() {
			return nil, &CompileError{Field: f + ".subgroup", Reason: fmt.Sprintf("the regex has %d groups, subgroup %d does not exist", re.NumSubexp(), x.Subgroup)}
		}
		mode := x.Mode
		switch mode {
		case "":
			mode = Extract
		case Extract, SingleReplace, ReplaceAll:
		default:
			return nil, &CompileError{Field: f + ".mode", Reason: fmt.Sprintf("%q is not one of EXTRACT, SINGLE_REPLACE, REPLACE_ALL", mode)}
		}
		if x.Header != "" && x.Body {
			return nil, &CompileError{Field: f, Reason: "only one of header, body may be set"}
		}
		switch x.JSONType {
		case "", "string", "number", "integer", "boolean":
		default:
			return nil, &CompileError{Field: f + ".jsonType", Reason: fmt.Sprintf("%q is not one of string, number, integer, boolean", x.JSONType)}
		}
		header := x.Header
		if header == "" && !x.Body {
			header = ":path"
		}
		out = append(out, extractor{name: n, header: header, body: x.Body, re: re, group: x.Subgroup, mode: mode, replace: x.ReplacementText, jsonType: x.JSONType, noMerge: x.NoMerge})
	}
	return out, nil
}

// extract applies an extractor to its source.
func (x *extractor) extract(src string) string {
	switch x.mode {
	case ReplaceAll:
		return x.re.ReplaceAllLiteralString(src, x.replace)
	case SingleReplace:
		loc := x.re.FindStringSubmatchIndex(src)
		if loc == nil || loc[2*x.group] < 0 {
			return src
		}
		return src[:loc[2*x.group]] + x.replace + src[loc[2*x.group+1]:]
	default:
		m := x.re.FindStringSubmatchIndex(src)
		if m == nil || m[2*x.group] < 0 {
			return ""
		}
		return src[m[2*x.group]:m[2*x.group+1]]
	}
}

// jsonValue is an extraction as mergeExtractorsToBody writes it: typed when
// the extractor asks for a type and the text is one, else a string.
func (x *extractor) jsonValue(v string) any {
	switch x.jsonType {
	case "number", "integer":
		if n, err := strconv.ParseFloat(v, 64); err == nil && (x.jsonType == "number" || n == math.Trunc(n)) {
			return json.Number(v)
		}
	case "boolean":
		if b, err := strconv.ParseBool(v); err == nil {
			return b
		}
	}
	return v
}
