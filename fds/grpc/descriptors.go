// Package grpc discovers the methods of gRPC services as functions: by
// server reflection (v1, else v1alpha), or from a descriptor set the
// upstream's config gives for a server without reflection.
package grpc

import (
	"errors"
	"fmt"
	"sort"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/gluon-gateway/gluon/functions"
)

// Limits bound what discovery reads; zero values are the defaults.
type Limits struct {
	// MaxBytes bounds the descriptors' total size (default 4 MiB).
	MaxBytes int
	// MaxFiles bounds how many files they span (default 500).
	MaxFiles int
}

func (l Limits) maxBytes() int { return orDefault(l.MaxBytes, 4<<20) }
func (l Limits) maxFiles() int { return orDefault(l.MaxFiles, 500) }

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

var (
	// ErrTooLarge is descriptors past the limits.
	ErrTooLarge = errors.New("descriptors too large")
	// ErrBadDescriptor is a descriptor set that does not parse or resolve.
	ErrBadDescriptor = errors.New("bad descriptor set")
)

// missingImports are the files imported by files and not among them,
// sorted.
func missingImports(files map[string]*descriptorpb.FileDescriptorProto) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		for _, dep := range f.GetDependency() {
			if _, ok := files[dep]; !ok && !seen[dep] {
				seen[dep] = true
				out = append(out, dep)
			}
		}
	}
	sort.Strings(out)
	return out
}

// sortedSet is files as a set sorted by name: the same files always
// serialise to the same bytes.
func sortedSet(files map[string]*descriptorpb.FileDescriptorProto) *descriptorpb.FileDescriptorSet {
	set := &descriptorpb.FileDescriptorSet{}
	for _, f := range files {
		set.File = append(set.File, f)
	}
	sort.Slice(set.File, func(i, j int) bool { return set.File[i].GetName() < set.File[j].GetName() })
	return set
}

// ParseSet reads a serialised FileDescriptorSet within limits, adding the
// well-known files (google/protobuf/*, google/api/*) it imports without
// including them, and checks that every reference resolves.
func ParseSet(raw []byte, l Limits) (*descriptorpb.FileDescriptorSet, error) {
	if len(raw) > l.maxBytes() {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrTooLarge, len(raw), l.maxBytes())
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(raw, set); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadDescriptor, err)
	}
	if len(set.File) > l.maxFiles() {
		return nil, fmt.Errorf("%w: %d files, more than %d", ErrTooLarge, len(set.File), l.maxFiles())
	}
	files := map[string]*descriptorpb.FileDescriptorProto{}
	for _, f := range set.File {
		files[f.GetName()] = f
	}
	return complete(files)
}

// IncludeImports is the descriptor set of files and every file they
// import, as protoc --include_imports writes it: imports are taken from
// the files linked into the binary.
func IncludeImports(files ...protoreflect.FileDescriptor) (*descriptorpb.FileDescriptorSet, error) {
	protos := map[string]*descriptorpb.FileDescriptorProto{}
	for _, fd := range files {
		protos[fd.Path()] = protodesc.ToFileDescriptorProto(fd)
	}
	return complete(protos)
}

// complete adds the well-known files imported and missing, sorts, and
// checks that the set resolves.
func complete(files map[string]*descriptorpb.FileDescriptorProto) (*descriptorpb.FileDescriptorSet, error) {
	for {
		missing := missingImports(files)
		if len(missing) == 0 {
			break
		}
		for _, name := range missing {
			fd, err := protoregistry.GlobalFiles.FindFileByPath(name)
			if err != nil {
				return nil, fmt.Errorf("%w: imported file %s is not in the set", ErrBadDescriptor, name)
			}
			files[name] = protodesc.ToFileDescriptorProto(fd)
		}
	}
	set := sortedSet(files)
	if _, err := protodesc.NewFiles(set); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadDescriptor, err)
	}
	return set, nil
}

// discovered lists the methods of every service set defines (server
// reflection's own excepted) as functions, sorted, with the set.
func discovered(set *descriptorpb.FileDescriptorSet, source string) (functions.Discovered, error) {
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return functions.Discovered{}, fmt.Errorf("%w: %v", ErrBadDescriptor, err)
	}
	var fns []functions.Function
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			svc := fd.Services().Get(i)
			if isReflectionService(string(svc.FullName())) {
				continue
			}
			for j := 0; j < svc.Methods().Len(); j++ {
				fns = append(fns, function(svc.Methods().Get(j)))
			}
		}
		return true
	})
	sort.Slice(fns, func(i, j int) bool { return fns[i].Name < fns[j].Name })
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
	if err != nil {
		return functions.Discovered{}, err
	}
	return functions.Discovered{Functions: fns, Source: source, GRPCDescriptors: raw}, nil
}

func function(m protoreflect.MethodDescriptor) functions.Function {
	return functions.Function{Name: string(m.FullName()), Kind: functions.KindGRPC, GRPC: &functions.GRPCFunction{
		Service: string(m.Parent().FullName()), Method: string(m.Name()),
		InputType: string(m.Input().FullName()), OutputType: string(m.Output().FullName()),
		ClientStreaming: m.IsStreamingClient(), ServerStreaming: m.IsStreamingServer(),
	}}
}
