// The answer page: a live character count under comments, and one submit per press of Send.
document.querySelectorAll("textarea[data-counter]").forEach(function(t){var c=document.getElementById(t.dataset.counter),m=t.maxLength;function u(){c.textContent=t.value.length+" / "+m}t.addEventListener("input",u);u()});
document.querySelector("form").addEventListener("submit",function(e){var b=this.querySelector("button");if(b.dataset.sent){e.preventDefault();return}b.dataset.sent="1";setTimeout(function(){b.disabled=true},0)});
