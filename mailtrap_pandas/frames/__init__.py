"""Pure conversion, never the network: the type table (``dtypes``), email keys and lossless coercion
(``normalize``), fields -> pandera (``schema``), row checks (``validate``), frames -> JSON bodies
(``encode``), the export/CSV parser (``reader``) and the user's files (``files``).
"""
