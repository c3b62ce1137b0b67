// Package filesource reads Gluon resources from a directory of YAML files
// and watches it. A file that does not parse rejects only its own resources,
// and a resource that was good before keeps being served in its last good
// version until its file is fixed or deleted.
package filesource

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gluon-gateway/gluon/api"
)

// Snapshot is one read of the directory.
type Snapshot = api.Snapshot

// Loader reads a directory, remembering each file's last good objects.
type Loader struct {
	dir       string
	lastGood  map[string]map[api.Key]api.Object // file → last good objects
	firstSeen map[string]time.Time              // key → when first read
	state     api.StateStore                    // nil: nothing survives a restart
	saved     []byte                            // what state holds
}

// NewLoader returns a loader for dir. With a state store, what it
// remembers (each file's last good resources, each resource's age)
// survives restarts: it is restored here, and saved after every load. A
// state that cannot be read is an error, returned with a loader that
// starts afresh.
func NewLoader(dir string, state api.StateStore) (*Loader, error) {
	l := &Loader{dir: dir, lastGood: map[string]map[api.Key]api.Object{}, firstSeen: map[string]time.Time{}, state: state}
	if state == nil {
		return l, nil
	}
	return l, l.restore()
}

// Load reads every *.yaml / *.yml file under the directory (recursively, in
// lexical order) and returns the resources with a report for each. A
// resource defined in two files is kept from the one that served it
// before (else the first): a new file never displaces a serving resource.
func (l *Loader) Load() (Snapshot, error) {
	files, err := yamlFiles(l.dir)
	if err != nil {
		return Snapshot{}, fmt.Errorf("reading config dir %s: %w", l.dir, err)
	}
	docs := make([]Document, len(files))
	for i, f := range files {
		docs[i].Name = f
		docs[i].Data, docs[i].Err = os.ReadFile(f)
	}
	return l.LoadDocuments(docs), nil
}

// Document is one source of resources: a file (Name its path), a
// key-value entry (Name its key), and its content or why it has none.
type Document struct {
	Name string
	Data []byte
	Err  error
}

// LoadDocuments reads resources from documents in the order given, as
// Load reads files: a document that does not parse keeps serving what it
// served before, a document gone takes its resources with it. A loader
// made with an empty dir names documents by Name as it is.
func (l *Loader) LoadDocuments(docs []Document) Snapshot {
	snap := Snapshot{Reports: api.Reports{}}
	definedIn := map[api.Key][]string{}
	next := map[string]map[api.Key]api.Object{}
	files := make([]string, len(docs))
	for i, d := range docs {
		f := d.Name
		files[i] = f
		objs := l.loadFile(d, snap.Reports)
		next[f] = objs
		for k := range objs {
			definedIn[k] = append(definedIn[k], f)
		}
	}
	for _, f := range files {
		for _, k := range sortedKeys(next[f]) {
			if owner := l.ownerOf(k, definedIn[k]); owner != f {
				snap.Reports.Reject(k, api.Problem{Code: api.DuplicateResource,
					Message: fmt.Sprintf("%s: duplicate of the resource defined in %s, which serves it; ignored", l.rel(f), l.rel(owner))})
				delete(next[f], k)
				continue
			}
			snap.Resources.Add(next[f][k])
		}
	}
	l.lastGood = next
	l.stampAges(next, time.Now())
	snap.Resources.Sort()
	if l.state != nil {
		if err := l.save(); err != nil {
			snap.Reports.Warn(api.Key{Kind: "File", Name: "(state)"}, api.Problem{Code: api.StateNotSaved, Message: err.Error()})
		}
	}
	return snap
}

// loadFile returns the objects a file contributes: the good ones it holds
// now plus, for each broken document, the last good version of what it was.
func (l *Loader) loadFile(doc Document, reports api.Reports) map[api.Key]api.Object {
	prev := l.lastGood[doc.Name]
	origin := l.rel(doc.Name)
	data, err := doc.Data, doc.Err
	if err != nil {
		reports.Reject(api.Key{Kind: "File", Name: origin}, api.Problem{Code: api.InvalidDocument, Message: err.Error()})
		return keep(prev, nil)
	}
	objs := map[api.Key]api.Object{}
	var broken []api.Document
	for _, d := range api.DecodeAll(data) {
		docOrigin := fmt.Sprintf("%s#%d", origin, d.Index)
		if d.Err != nil {
			broken = append(broken, d)
			continue
		}
		k := api.KeyOf(d.Object)
		objs[k] = d.Object
		reports.Accept(k, docOrigin)
	}
	for _, d := range broken {
		l.reportBroken(reports, origin, d, prev, objs)
	}
	return objs
}

// reportBroken rejects a broken document and, where its previous version is
// known, keeps that version in objs so that traffic does not change.
func (l *Loader) reportBroken(reports api.Reports, origin string, d api.Document, prev, objs map[api.Key]api.Object) {
	docOrigin := fmt.Sprintf("%s#%d", origin, d.Index)
	problems := api.ProblemsOf(d.Err, api.InvalidDocument, "") // the report's origin names the document
	lastGood := api.Problem{Code: api.ServingLastGood, Message: "serving the last good version"}
	if d.Key.Name == "" || d.Key.Kind == "" {
		// Unnamed: we cannot tell which resource it was, so keep every
		// previous resource of the file that the file no longer names.
		kept := keep(prev, objs)
		file := api.Key{Kind: "File", Name: origin}
		reports.Accept(file, docOrigin)
		reports.Reject(file, append(problems, keptNote(len(kept))...)...)
		for k, o := range kept {
			objs[k] = o
			reports.Accept(k, origin)
			reports.Reject(k, append(problems, lastGood)...)
		}
		return
	}
	if old, ok := prev[d.Key]; ok {
		objs[d.Key] = old
		problems = append(problems, lastGood)
	}
	reports.Accept(d.Key, docOrigin)
	reports.Reject(d.Key, problems...)
}

func keptNote(n int) []api.Problem {
	if n == 0 {
		return nil
	}
	return []api.Problem{{Code: api.ServingLastGood, Message: fmt.Sprintf("serving the last good version of %d resource(s) from this file", n)}}
}

// keep returns the objects of prev that are not in now.
func keep(prev, now map[api.Key]api.Object) map[api.Key]api.Object {
	out := map[api.Key]api.Object{}
	for k, o := range prev {
		if _, ok := now[k]; !ok {
			out[k] = o
		}
	}
	return out
}

func (l *Loader) abs(rel string) string {
	if l.dir == "" {
		return rel
	}
	return filepath.Join(l.dir, rel)
}

func (l *Loader) rel(path string) string {
	if l.dir == "" {
		return path
	}
	if r, err := filepath.Rel(l.dir, path); err == nil {
		return r
	}
	return path
}

func yamlFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := e.Name()
		if e.IsDir() {
			if p != dir && strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasPrefix(name, ".") && (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func sortedKeys(m map[api.Key]api.Object) []api.Key {
	keys := make([]api.Key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}
