"""Words, times and numbers in the user's language (简体中文 by default, English), shared by every
package that shows them (dashboard, reports, simulator) without pulling in Dash."""
