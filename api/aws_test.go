package api

import (
	"strings"
	"testing"
)

func TestAWSUpstreamRoleValidation(t *testing.T) {
	cases := []struct {
		roleArn, stsEndpoint string
		want                 string // "" = valid
	}{
		{"arn:aws:iam::123456789012:role/lambda-invoker", "", ""},
		{"arn:aws:iam::123456789012:role/service-role/team/invoker", "https://sts.eu-west-1.amazonaws.com", ""},
		{"arn:aws-cn:iam::123456789012:role/invoker", "http://127.0.0.1:9000/", ""},
		{"arn:aws-us-gov:iam::123456789012:role/a+b=c,d.e@f-g_h", "", ""},
		{"arn:aws:iam::12345678901:role/short-account", "", "spec.aws.roleArn"},
		{"arn:aws:iam::123456789012:user/not-a-role", "", "spec.aws.roleArn"},
		{"arn:aws:sts::123456789012:assumed-role/r/s", "", "spec.aws.roleArn"},
		{"arn:aws:iam::123456789012:role/", "", "spec.aws.roleArn"},
		{"arn:aws:iam::123456789012:role/has space", "", "spec.aws.roleArn"},
		{"", "sts.amazonaws.com", "spec.aws.stsEndpoint"},
		{"", "https://sts.amazonaws.com/v1", "spec.aws.stsEndpoint"},
		{"", "ftp://sts.amazonaws.com", "spec.aws.stsEndpoint"},
	}
	for _, c := range cases {
		u := &Upstream{Spec: UpstreamSpec{AWS: &AWSUpstream{Region: "us-east-1", RoleArn: c.roleArn, STSEndpoint: c.stsEndpoint}}}
		u.Name, u.Namespace = "aws", DefaultNamespace
		err := u.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q %q: %v", c.roleArn, c.stsEndpoint, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q %q: got %v, want an error on %s", c.roleArn, c.stsEndpoint, err, c.want)
		}
	}
}
