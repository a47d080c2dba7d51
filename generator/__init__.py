"""The Faker data generator: fills the marketplace deterministically at a chosen scale.

It arrives with its own issue; the package exists so the layout, the linters and the
packaging already cover it.
"""
