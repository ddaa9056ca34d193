"""Operating the deployment: reconcile, demo data, the end-to-end proof."""
