vcl 4.1;

# Varnish in front of the sample (README, "Behind Varnish"): caches the responses that carry tagcache's
# xkey header (tagcache.http.headers=xkey) for an hour, and purges them by tag when the sample sends
# PURGE with xkey-purge (or xkey-softpurge) after an invalidation (tagcache.http.varnish.purge-urls).
# Needs vmod-xkey (Debian package varnish-modules).

import xkey;

backend sample {
	.host = "127.0.0.1";
	.port = "8080";
}

# Only the application may purge.
acl purgers {
	"127.0.0.1";
	"::1";
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
	# the actuator is never cached
	if (req.url ~ "^/actuator") {
		return (pass);
	}
}

sub vcl_backend_response {
	# a tagged response is kept an hour: purges keep it fresh, and a soft purge leaves it in grace, served
	# stale while Varnish fetches it again; tagcache marks a response it cannot tag whole no-store
	if (beresp.http.xkey && !beresp.http.Cache-Control) {
		set beresp.ttl = 1h;
		set beresp.grace = 1h;
	}
}

sub vcl_hit {
	if (obj.ttl <= 0s) {
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
