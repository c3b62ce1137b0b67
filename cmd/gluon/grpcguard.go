package main

import (
	"context"
	"log/slog"
	"runtime/debug"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
)

// recoverRPCs turns a panic in one gRPC call (an xDS stream, a rate-limit
// decision) into that call's Internal error: grpc-go does not recover
// handlers, and one bad stream must not take the control plane down.
func recoverRPCs(log *slog.Logger) []grpc.ServerOption {
	recovered := func(method string, err *error) {
		if p := recover(); p != nil {
			log.Error("recovered a panic; only this call ended", "method", method, "panic", p, "stack", string(debug.Stack()))
			*err = grpcstatus.Errorf(codes.Internal, "internal error")
		}
	}
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (_ any, err error) {
			defer recovered(info.FullMethod, &err)
			return h(ctx, req)
		}),
		grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
			defer recovered(info.FullMethod, &err)
			return h(srv, ss)
		}),
	}
}
