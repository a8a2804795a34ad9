"""``derive check``: a user's claimed gradient against the certified reference.

``claims`` builds the reference and decides, ``claim_points`` samples and
evaluates, ``diagnose`` names a likely mistake.
"""
