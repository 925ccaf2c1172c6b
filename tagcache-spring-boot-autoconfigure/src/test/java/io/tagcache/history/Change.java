package io.tagcache.history;

/**
 * What one write did to one user: its state before and after. A write invalidates the tags of
 * both, so that every entry that held the old state (its lists, its old mail) and every
 * entry that would hold the new one (its new list, its new mail) is dropped.
 *
 * @param before the state the write replaced
 * @param after the state it wrote, one version higher
 */
public record Change(User before, User after) {

	/**
	 * A short description for histories, e.g. {@code "move loc 1 -> 3"}.
	 * @return the description
	 */
	public String describe() {
		if (this.before.locationId() != this.after.locationId()) {
			return "move loc " + this.before.locationId() + " -> " + this.after.locationId();
		}
		if (!this.before.mail().equals(this.after.mail())) {
			return "mail " + this.before.mail() + " -> " + this.after.mail();
		}
		if (!this.before.name().equals(this.after.name())) {
			return "rename " + this.before.name() + " -> " + this.after.name();
		}
		return "no change but the version";
	}

}
