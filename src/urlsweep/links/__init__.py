"""Links in documents and sites: extraction per format, the link graph, local documents,
remote pages, sitemaps, robots.txt and the crawler.
"""
