package lambda

import (
	"strings"
	"testing"
)

const role = "arn:aws:iam::111122223333:role/lister"

func TestDiscoverAsAssumedRole(t *testing.T) {
	s, url := stand(t)
	s.AllowAssumeRole(key, role)
	fns, err := discover(t, Config{Endpoint: url, STSEndpoint: url, RoleARN: role, AccessKeyID: key, SecretAccessKey: secret})
	if err != nil || summary(fns) != wantStandin {
		t.Fatalf("got %v\n%s", err, summary(fns))
	}
	issued := s.AssumedRoles()
	if len(issued) != 1 || issued[0].RoleSessionName != roleSessionName {
		t.Fatalf("the role was assumed %d times (%+v), want once for the whole listing", len(issued), issued)
	}
	auth := s.LastRequest().Header.Get("Authorization")
	if !strings.Contains(auth, "Credential="+issued[0].AccessKeyID+"/") || s.LastRequest().Header.Get("X-Amz-Security-Token") != issued[0].SessionToken {
		t.Fatalf("the listing was not signed with the role's credentials: %s", auth)
	}
}

func TestRoleThatMayNotBeAssumedIsPermanent(t *testing.T) {
	_, url := stand(t)
	_, err := discover(t, Config{Endpoint: url, STSEndpoint: url, RoleARN: role, AccessKeyID: key, SecretAccessKey: secret})
	if ErrorCode(err) != "AccessDenied" || IsTransient(err) {
		t.Fatalf("got %v (code %q, transient %v), want permanent AccessDenied", err, ErrorCode(err), IsTransient(err))
	}
}
