vcl 4.1;

# The Varnish of the integration tests: caches the application's tagged responses and purges them by
# tag (vmod-xkey). BACKEND_PORT is replaced by the test.

import xkey;

backend application {
	.host = "127.0.0.1";
	.port = "BACKEND_PORT";
}

acl purgers {
	"127.0.0.1";
}

sub vcl_recv {
	if (req.method == "PURGE") {
		if (client.ip !~ purgers) {
			return (synth(403, "Not allowed"));
		}
		if (req.http.xkey-purge) {
			set req.http.n-gone = xkey.purge(req.http.xkey-purge);
		} elsif (req.http.xkey-softpurge) {
			set req.http.n-gone = xkey.softpurge(req.http.xkey-softpurge);
		} else {
			return (synth(400, "xkey-purge or xkey-softpurge needed"));
		}
		return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
	}
}

sub vcl_backend_response {
	# a tagged response is kept an hour: purges keep it fresh; a soft purge leaves it in grace
	if (beresp.http.xkey && !beresp.http.Cache-Control) {
		set beresp.ttl = 1h;
		set beresp.grace = 1h;
	}
}

sub vcl_hit {
	if (obj.ttl <= 0s) {
		# in grace: delivered stale while Varnish fetches the object again in the background
		set req.http.X-Stale = "1";
	}
}

sub vcl_deliver {
	if (req.http.X-Stale) {
		set resp.http.X-Cache = "HIT-STALE";
	} elsif (obj.hits > 0) {
		set resp.http.X-Cache = "HIT";
	} else {
		set resp.http.X-Cache = "MISS";
	}
}
