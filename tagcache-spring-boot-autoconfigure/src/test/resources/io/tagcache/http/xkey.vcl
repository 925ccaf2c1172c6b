# Reference VCL for tagcache's purges (io.tagcache.http.VarnishTagPurger): Varnish with vmod xkey
# (Debian package varnish-modules). Responses carry their tags in an `xkey` header (space-separated);
# tagcache purges them with `PURGE` and `xkey-purge: tag1 tag2`, or `xkey-softpurge` for soft
# invalidations. Integration tests replace the backend's port with the application's.
vcl 4.1;

import xkey;

backend default {
	.host = "127.0.0.1";
	.port = "8080";
}

# Who may purge: the application's instances. Only localhost here.
acl purgers {
	"127.0.0.1";
	"::1";
}

sub vcl_recv {
	if (req.method == "PURGE") {
		if (client.ip !~ purgers) {
			return (synth(403, "Forbidden"));
		}
		if (req.http.xkey-purge) {
			set req.http.n-gone = xkey.purge(req.http.xkey-purge);
		}
		elsif (req.http.xkey-softpurge) {
			set req.http.n-gone = xkey.softpurge(req.http.xkey-softpurge);
		}
		else {
			return (synth(400, "No xkey-purge or xkey-softpurge header"));
		}
		return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
	}
}

sub vcl_backend_response {
	# A soft purge leaves objects stale: grace lets Varnish serve one while it refetches.
	set beresp.grace = 1m;
}
