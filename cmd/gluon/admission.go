package main

import (
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/gluon-gateway/gluon/api"
	"github.com/gluon-gateway/gluon/controlplane"
)

// admitter is the validating admission webhook: it runs the real
// translation, both stages, on the config as it would be with the proposed
// object, and refuses the object with the reasons translation gives.
type admitter struct{ p *controlplane.Pipeline }

func (a admitter) Handle(_ context.Context, req admission.Request) admission.Response {
	if req.Operation == admissionv1.Delete {
		return admission.Allowed("")
	}
	docs := api.DecodeAll(req.Object.Raw)
	if len(docs) != 1 {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("want one object, got %d", len(docs)))
	}
	if err := docs[0].Err; err != nil {
		return admission.Denied(err.Error())
	}
	warnings, err := a.p.Admit(docs[0].Object)
	if err != nil {
		return admission.Denied(err.Error())
	}
	return admission.Allowed("").WithWarnings(warnings...)
}
