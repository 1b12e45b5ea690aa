/*
 * Shop front: the basket and the product cards' buttons.
 *
 * Plain script, no framework and no bundler: written by hand and shipped as written. The build
 * hashes its name and compresses it; nothing else touches it.
 */
(function () {
    "use strict";

    // Prices are in cents, so that sums never meet floating point.
    var CURRENCY = "EUR";
    var STORAGE_KEY = "shop.basket.v1";

    /**
     * The basket: product id -> {title, price, quantity}, kept in localStorage so that it
     * survives a reload. A browser that refuses storage (private mode, quota) still gets a
     * working basket for the page's lifetime.
     */
    function Basket(storage) {
        this.storage = storage;
        this.items = {};
        this.load();
    }

    Basket.prototype.load = function () {
        try {
            var saved = this.storage && this.storage.getItem(STORAGE_KEY);
            this.items = saved ? JSON.parse(saved) : {};
        } catch (error) {
            // Corrupt or unreadable: start again rather than break the page.
            this.items = {};
        }
    };

    Basket.prototype.save = function () {
        try {
            if (this.storage) {
                this.storage.setItem(STORAGE_KEY, JSON.stringify(this.items));
            }
        } catch (error) {
            // Quota exceeded or storage disabled: the in-memory basket still works.
        }
    };

    Basket.prototype.add = function (id, title, price) {
        var item = this.items[id];
        if (item) {
            item.quantity += 1;
        } else {
            this.items[id] = { title: title, price: price, quantity: 1 };
        }
        this.save();
    };

    Basket.prototype.remove = function (id) {
        delete this.items[id];
        this.save();
    };

    Basket.prototype.count = function () {
        var total = 0;
        for (var id in this.items) {
            if (Object.prototype.hasOwnProperty.call(this.items, id)) {
                total += this.items[id].quantity;
            }
        }
        return total;
    };

    Basket.prototype.total = function () {
        var cents = 0;
        for (var id in this.items) {
            if (Object.prototype.hasOwnProperty.call(this.items, id)) {
                cents += this.items[id].price * this.items[id].quantity;
            }
        }
        return cents;
    };

    /** "12.50 EUR" for 1250, in the page's language where the browser knows it. */
    function formatPrice(cents) {
        var amount = cents / 100;
        try {
            return new Intl.NumberFormat(document.documentElement.lang || undefined, {
                style: "currency",
                currency: CURRENCY,
            }).format(amount);
        } catch (error) {
            return amount.toFixed(2) + " " + CURRENCY;
        }
    }

    /** Show the basket bar with its count and total, or hide it when the basket is empty. */
    function renderSummary(basket, bar) {
        var count = basket.count();
        bar.hidden = count === 0;
        if (count === 0) {
            return;
        }
        bar.querySelector("[data-basket-count]").textContent =
            count + (count === 1 ? " item" : " items");
        bar.querySelector("[data-basket-total]").textContent = formatPrice(basket.total());
    }

    /** Mark each card's button pressed when its product is in the basket. */
    function renderButtons(basket, buttons) {
        buttons.forEach(function (button) {
            var inBasket = Boolean(basket.items[button.dataset.productId]);
            button.setAttribute("aria-pressed", inBasket ? "true" : "false");
            button.textContent = inBasket ? "In your basket" : "Add to basket";
        });
    }

    function start() {
        var bar = document.querySelector(".shop-basket");
        var buttons = Array.prototype.slice.call(
            document.querySelectorAll(".shop-card__button[data-product-id]")
        );
        if (!bar || buttons.length === 0) {
            return; // not a page with products
        }
        var storage = null;
        try {
            storage = window.localStorage;
        } catch (error) {
            // Some browsers throw on the mere access when storage is disabled.
        }
        var basket = new Basket(storage);

        buttons.forEach(function (button) {
            button.addEventListener("click", function () {
                var id = button.dataset.productId;
                if (basket.items[id]) {
                    basket.remove(id);
                } else {
                    basket.add(id, button.dataset.title, parseInt(button.dataset.price, 10));
                }
                renderButtons(basket, buttons);
                renderSummary(basket, bar);
            });
        });

        // Another tab changed the basket: follow it.
        window.addEventListener("storage", function (event) {
            if (event.key === STORAGE_KEY) {
                basket.load();
                renderButtons(basket, buttons);
                renderSummary(basket, bar);
            }
        });

        renderButtons(basket, buttons);
        renderSummary(basket, bar);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
