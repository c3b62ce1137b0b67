package api

import (
	"sort"
	"strings"
)

// Reports accumulates verdicts across stages; the worst state wins and
// reasons add up.
//
// +kubebuilder:object:generate=false
type Reports map[Key]*Report

// Accept records that a resource was seen (and is fine unless told otherwise).
func (r Reports) Accept(k Key, origin string) { r.get(k, origin) }

// Warn adds warnings.
func (r Reports) Warn(k Key, problems ...Problem) { r.add(k, Warning, problems) }

// Reject adds rejections.
func (r Reports) Reject(k Key, problems ...Problem) { r.add(k, Rejected, problems) }

func (r Reports) add(k Key, s State, problems []Problem) {
	rep := r.get(k, "")
	if len(problems) == 0 {
		return // nothing to say: the verdict stands
	}
	if s == Rejected || rep.State == Accepted {
		rep.State = s
	}
	rep.Problems = append(rep.Problems, problems...)
}

func (r Reports) get(k Key, origin string) *Report {
	rep, ok := r[k]
	if !ok {
		rep = &Report{Key: k, State: Accepted}
		r[k] = rep
	}
	if origin != "" {
		rep.Origin = origin
	}
	return rep
}

// Merge copies every report of other into r.
func (r Reports) Merge(other Reports) {
	for k, o := range other {
		r.get(k, o.Origin)
		if o.State != Accepted {
			r.add(k, o.State, o.Problems)
		}
	}
}

// List returns the reports sorted by kind, namespace, name.
func (r Reports) List() []Report {
	out := make([]Report, 0, len(r))
	for _, rep := range r {
		out = append(out, *rep)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Key, out[j].Key
		return strings.Join([]string{string(a.Kind), a.Namespace, a.Name}, "\x00") <
			strings.Join([]string{string(b.Kind), b.Namespace, b.Name}, "\x00")
	})
	return out
}
