document.documentElement.dataset.shop = "ready";
