# Sphinx configuration of the documentation site. `docs/build.py` copies this file into the generated source folder
# (next to the processed notebooks, the API pages and `site.json`) and runs Sphinx there; see that script.
import json
from pathlib import Path

site = json.loads((Path(__file__).parent / 'site.json').read_text())

project = site['title']
author = site['copyright'].split(',', 1)[-1].strip()
copyright = site['copyright']
release = version = site['version']

extensions = ['myst_nb', 'sphinx.ext.mathjax']
exclude_patterns = ['_build', 'site.json']
root_doc = 'index'

# --- notebooks: never executed; what they store is what the pages show
nb_execution_mode = 'off'
nb_render_markdown_format = 'myst'                  # markdown outputs (none stored today) are parsed like the cells
nb_merge_streams = True
nb_code_prompt_show = 'Exported source'            # exported cells are collapsed under their API entry (nbdev's "Exported source")
nb_code_prompt_hide = 'Hide exported source'
nb_ipywidgets_js = {}                               # no widget JavaScript from a CDN; a widget output falls back to its text
nb_mime_priority_overrides = [('html', 'application/vnd.jupyter.widget-view+json', None),
                              ('html', 'application/vnd.jupyter.widget-state+json', None)]
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence', 'attrs_block', 'attrs_inline']
myst_dmath_double_inline = True                     # $$...$$ inside a paragraph, as the notebooks write it
myst_heading_anchors = 3

# --- maths: MathJax 3 served from this site (_static/mathjax, copied by build.py), no CDN
mathjax_path = 'mathjax/tex-chtml-full.js'
mathjax3_config = {'options': {'enableMenu': False}}   # the menu would lazy-load components; rendering needs none of them

# --- HTML
html_theme = 'sphinx_book_theme'
html_title = f"{site['title']} {site['version']}"
html_baseurl = site['doc_host'] + site['doc_baseurl'] + '/'
html_static_path = ['_static']
html_css_files = ['custom.css']
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    'repository_url': site['git_url'],
    'repository_branch': site['branch'],
    'use_repository_button': True,
    'home_page_in_toc': True,
    'show_toc_level': 2,
    'max_navbar_depth': 2,                          # the sidebar lists pages, not their sections: builds in half the time
    'collapse_navbar': True,
    'navigation_with_keys': False,
    'extra_footer': 'Built by <code>make docs</code> from the notebooks as stored: the docs build executes no notebook, '
                    'so the library notebooks (stored without outputs) show code and prose, the tutorials and reproductions '
                    'the outputs of their recorded runs. Maths by MathJax ' + site['mathjax'] + ', served from this site.',
}
# warnings that say nothing about the site: heading levels that skip (notebooks use ### for API entries under ##)
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type']
